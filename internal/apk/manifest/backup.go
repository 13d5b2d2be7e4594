package manifest

import (
	"errors"
	"fmt"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

// ErrNotBackupRules is returned for a tree that is neither
// <full-backup-content> nor <data-extraction-rules>.
var ErrNotBackupRules = errors.New("root element is not <full-backup-content> or <data-extraction-rules>")

// BackupRules is a file named by android:fullBackupContent (Android 6-11)
// or android:dataExtractionRules (Android 12+).
type BackupRules struct {
	// Kind is the root element name: "full-backup-content" or
	// "data-extraction-rules".
	Kind string
	// Sections: one named "full-backup-content" for the old format;
	// "cloud-backup" and/or "device-transfer" for the new one.
	Sections  []BackupSection
	Anomalies []string
}

// BackupSection is one set of include/exclude rules.
type BackupSection struct {
	Locator string
	Name    string
	// DisableIfNoEncryptionCapabilities is a cloud-backup attribute:
	// when true, nothing is backed up without end-to-end encryption.
	DisableIfNoEncryptionCapabilities OptBool
	Include, Exclude                  []BackupPath
}

// BackupPath is an <include> or <exclude> rule.
type BackupPath struct {
	// Domain is root, file, database, sharedpref, external, device_root,
	// device_file, device_database or device_sharedpref.
	Domain string
	Path   string
	// RequireFlags is clientSideEncryption and/or deviceToDeviceTransfer.
	RequireFlags string
}

// ParseBackupRules builds the typed backup or data extraction rules.
func ParseBackupRules(tree *axml.Element, res Resolver) (*BackupRules, error) {
	if tree == nil || (tree.Name != "full-backup-content" && tree.Name != "data-extraction-rules") {
		return nil, ErrNotBackupRules
	}
	b := &BackupRules{Kind: tree.Name}
	r := resolver{res: res, anomalies: &b.Anomalies}
	if tree.Name == "full-backup-content" {
		b.Sections = append(b.Sections, parseBackupSection(r, tree.Name, tree))
		return b, nil
	}
	for _, c := range tree.Children {
		switch c.Name {
		case "cloud-backup", "device-transfer":
			b.Sections = append(b.Sections, parseBackupSection(r, tree.Name+"/"+c.Name, c))
		default:
			r.note("%s: unknown section <%s>", tree.Name, c.Name)
		}
	}
	return b, nil
}

func parseBackupSection(r resolver, loc string, el *axml.Element) BackupSection {
	s := BackupSection{Locator: loc, Name: el.Name}
	s.DisableIfNoEncryptionCapabilities = plainBool(r, el, "disableIfNoEncryptionCapabilities", loc)
	for i, c := range el.Children {
		where := fmt.Sprintf("%s/%s[%d]", loc, c.Name, i)
		p := BackupPath{}
		p.Domain, _, _ = plainStr(r, c, "domain", where)
		p.Path, _, _ = plainStr(r, c, "path", where)
		p.RequireFlags, _, _ = plainStr(r, c, "requireFlags", where)
		switch c.Name {
		case "include":
			s.Include = append(s.Include, p)
		case "exclude":
			s.Exclude = append(s.Exclude, p)
		}
	}
	return s
}
