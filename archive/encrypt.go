package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// Sentinels for encrypted archives. Unlike the integrity sentinels they say
// nothing about the archive's state: the reader lacks the right key.
var (
	// ErrEncrypted: the archive is age-encrypted and no identity was given.
	ErrEncrypted = errors.New("archive is encrypted")
	// ErrNoIdentityMatch: none of the identities given can decrypt the
	// archive (it was encrypted to other recipients).
	ErrNoIdentityMatch = errors.New("none of the identities can decrypt the archive")
)

// The two encodings of an age file: binary (what Writer writes) and ASCII
// armor (what `age -a` writes).
var (
	ageMagic   = []byte("age-encryption.org/")
	armorMagic = []byte(armor.Header)
)

// encrypter wraps w in age encryption to recipients; with none it returns
// w and a no-op closer. Close finishes the age stream (its last chunk) and
// must come after everything written through it.
func encrypter(w io.Writer, recipients []age.Recipient) (io.Writer, func() error, error) {
	if len(recipients) == 0 {
		return w, func() error { return nil }, nil
	}
	enc, err := age.Encrypt(w, recipients...)
	if err != nil {
		return nil, nil, fmt.Errorf("age: %w", err)
	}
	return enc, enc.Close, nil
}

// decrypter detects an age header at the start of r and returns a reader
// of the plaintext; anything else is returned as it is.
func decrypter(r io.Reader, ids []age.Identity) (io.Reader, bool, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(len(armorMagic))
	var src io.Reader = br
	switch {
	case bytes.HasPrefix(head, ageMagic):
	case bytes.HasPrefix(head, armorMagic):
		src = armor.NewReader(br)
	default:
		return br, false, nil
	}
	if len(ids) == 0 {
		return nil, true, ErrEncrypted
	}
	plain, err := age.Decrypt(src, ids...)
	var nomatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &nomatch):
		return nil, true, ErrNoIdentityMatch
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, true, fmt.Errorf("age header: %w: %v", ErrIncomplete, err)
	case err != nil:
		return nil, true, fmt.Errorf("age header: %w: %v", ErrCorrupt, err)
	}
	return authReader{plain}, true, nil
}

// authReader marks what age's decryption reports: a chunk that fails
// authentication (tampered or damaged), or a stream cut short.
type authReader struct{ r io.Reader }

func (a authReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	switch {
	case err == nil, err == io.EOF:
		return n, err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return n, fmt.Errorf("encrypted stream ends early (truncated?): %w", ErrIncomplete)
	}
	return n, fmt.Errorf("decrypting: %w: %v", ErrCorrupt, err)
}
