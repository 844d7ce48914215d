package archive

// restoreOrder is the push order: the order in which a registry's files
// are written so that a registry reading the storage meanwhile never finds
// a link to a blob or manifest that is not there yet. Blobs first, then
// _layers links, then manifest revisions, then tag index (history) links,
// then tags' current links: a tag appears only once everything it names
// is in place. It is the order of the kinds, not of their values.
var restoreOrder = [...]Kind{KindBlob, KindLayerLink, KindRevisionLink, KindTagIndexLink, KindTagCurrentLink}

// RestoreOrder returns the kinds of a registry's files in push order (see
// restoreOrder): the order restore and copy write them in, the snapshot
// lists links in and an archive holds them in. The slice is the caller's.
func RestoreOrder() []Kind {
	out := restoreOrder
	return out[:]
}

// RestoreRank is k's place in RestoreOrder, from 0 for KindBlob; -1 for
// KindUnknown, which sorts before every kind the registry writes. Sort by
// it, never by the Kind values themselves.
func (k Kind) RestoreRank() int {
	for i, o := range restoreOrder {
		if o == k {
			return i
		}
	}
	return -1
}
