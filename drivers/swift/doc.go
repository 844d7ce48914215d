// Package swift is the Driver for OpenStack Swift, built on
// github.com/ncw/swift/v2: Keystone v3 and v2 and v1 (tempauth, swauth)
// authentication, as the registry's swift storage driver (Distribution 2.x,
// Harbor) uses it.
//
// Objects are named exactly as the registry's swift driver names them: the
// prefix, then "/files/", then the path ("reg/files/docker/registry/v2/...";
// leading "/" dropped), so a registry configured with the same container
// and prefix serves what this driver writes. Objects below
// "<prefix>/segments/" hold the data of large objects and are not registry
// files: Walk never shows them.
//
// The registry writes every blob it receives as a Dynamic Large Object
// (DLO): a 0-byte manifest object at the blob's path whose header
// X-Object-Manifest names "<container>/<prefix>/segments/<3 hex>/<hex>", and
// segment objects below it named "/%016d" from 1, whose content joined is
// the blob. A container listing reports such a manifest as 0 bytes, so Walk
// asks for the size of every 0-byte entry with a HEAD. Reader checks a DLO's
// segments before handing out its content: a numbered segment missing in
// the middle, or a manifest without segments, is reported as an error
// wrapping drivers.ErrDamaged (the registry would serve a short or no
// blob), never as a short file.
//
// Put is all or nothing: a file up to the cluster's object size limit
// (max_file_size from /info, 5 GiB by default) is one PUT, which Swift
// keeps only when the whole body arrived; a larger file, or one of unknown
// size beyond the first segment, is written as segments in the registry's
// layout and becomes visible only when its DLO manifest is put, after every
// segment arrived. A failed Put deletes the segments it wrote.
//
// It registers the "swift" URL scheme:
//
//	swift://CONTAINER[/PREFIX]?auth=URL&region=R&...
//
// (see ParseLocation for every option) and the registry storage driver name
// "swift" (see FromParameters). Credentials come from the registry config
// or the OpenStack environment (OS_USERNAME, OS_PASSWORD, OS_AUTH_URL,
// OS_PROJECT_NAME, ..., or ST_AUTH, ST_USER, ST_KEY for v1 auth); they never
// appear in a location, String(), errors or logs.
package swift
