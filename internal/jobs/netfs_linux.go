package jobs

import "syscall"

// networkFS reports whether path is on a network file system, by the
// file-system magic numbers of statfs(2).
func networkFS(path string) (string, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return "", false // unknown: the open that follows reports real errors
	}
	switch uint32(st.Type) {
	case 0x6969:
		return "nfs", true
	case 0xff534d42:
		return "cifs", true
	case 0xfe534d42:
		return "smb2", true
	case 0x517b:
		return "smb", true
	case 0x564c:
		return "ncp", true
	case 0x6b414653:
		return "afs", true
	case 0x47504653:
		return "gpfs", true
	case 0x65735546:
		return "fuse", true // sshfs and other remote FUSE mounts; local FUSE is rare for a database
	}
	return "", false
}
