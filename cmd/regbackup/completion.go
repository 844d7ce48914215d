package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// The shell scripts ask regbackup itself for the words that may follow
// (--generate-bash-completion, urfave/cli's hidden flag): subcommands, then
// a subcommand's flags once a word starts with "-"; otherwise file names.
const bashCompletion = `# regbackup completion for bash: source <(regbackup completion bash)
_regbackup_complete() {
	local cur="${COMP_WORDS[COMP_CWORD]}" opts
	if [[ "$cur" == -* ]]; then
		opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
	else
		opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
	fi
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _regbackup_complete regbackup
`

const zshCompletion = `#compdef regbackup
# regbackup completion for zsh: regbackup completion zsh > "${fpath[1]}/_regbackup"
_regbackup() {
	local -a opts
	local cur=${words[-1]}
	if [[ "$cur" == -* ]]; then
		opts=("${(@f)$(${words[@]:0:#words[@]-1} $cur --generate-bash-completion 2>/dev/null)}")
	else
		opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
	fi
	if [[ -n "${opts[1]}" ]]; then
		_describe 'regbackup' opts
	else
		_files
	fi
}
compdef _regbackup regbackup
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		UsageText: "regbackup completion bash|zsh|fish",
		Description: `Prints a script that completes regbackup's subcommands and flags (and file names).

Examples:
  source <(regbackup completion bash)                        # this shell; add it to ~/.bashrc
  regbackup completion bash > /etc/bash_completion.d/regbackup
  regbackup completion zsh > "${fpath[1]}/_regbackup"
  regbackup completion fish > ~/.config/fish/completions/regbackup.fish`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("completion takes one shell: bash, zsh or fish")
			}
			switch shell := c.Args().First(); shell {
			case "bash":
				_, err := fmt.Fprint(os.Stdout, bashCompletion)
				return err
			case "zsh":
				_, err := fmt.Fprint(os.Stdout, zshCompletion)
				return err
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(os.Stdout, s)
				return err
			default:
				return usagef("completion: unknown shell %q: use bash, zsh or fish", shell)
			}
		},
	}
}

// manCommand prints the man page made from the commands' own definitions
// (make man keeps docs/man/regbackup.1 from it). Hidden: it is for the
// build, not for users.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "print the man page (roff)",
		Hidden: true,
		Action: func(c *cli.Context) error {
			s, err := c.App.ToMan()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(os.Stdout, s)
			return err
		},
	}
}
