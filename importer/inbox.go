package importer

import "strings"

// InboxSyncable tells whether a file in an SFTP /in/ counts as a roster
// (SPEC §5.2): clients upload under a temporary name — a leading dot, or
// .part, .filepart or .tmp at the end (OpenSSH users, WinSCP, FileZilla and
// rsync-style scripts) — and rename it when it is complete, so such names
// are listed but never synced, and never fire an on_upload sync.
func InboxSyncable(name string) bool {
	if name == "" || strings.HasPrefix(name, ".") {
		return false
	}
	lower := strings.ToLower(name)
	for _, suffix := range []string{".part", ".filepart", ".tmp"} {
		if strings.HasSuffix(lower, suffix) {
			return false
		}
	}
	return true
}
