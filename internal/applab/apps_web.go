package applab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/web"
)

type appsData struct {
	Org       Org
	Apps      []App
	Scans     []Scan
	Providers []Org
	CanUpload bool
	MaxUpload string
	Problem   string
	Regulator bool
}

func (m *Module) apps(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	m.renderApps(w, r, o, http.StatusOK, "")
}

func (m *Module) renderApps(w http.ResponseWriter, r *http.Request, o Org, status int, problem string) {
	ctx := r.Context()
	d := appsData{Org: o, CanUpload: web.PathRole(r).AtLeast(web.RoleAnalyst), MaxUpload: size(m.cfg.MaxUpload), Problem: problem, Regulator: o.IsRegulator()}
	var err error
	if d.Apps, err = m.store.Apps(ctx, o.ID); err != nil {
		m.fail(w, r, "apps", err)
		return
	}
	if d.Scans, err = m.store.RecentScans(ctx, o.ID, 20); err != nil {
		m.fail(w, r, "scans", err)
		return
	}
	if d.Providers, err = m.store.Providers(ctx, o); err != nil {
		m.fail(w, r, "providers", err)
		return
	}
	m.render(w, r, status, "apps.html", "App lab · "+o.Name, d, "")
}

// receive reads the multipart body: the app in field "file", and the
// owner in field "provider" (a regulator uploading in lab mode). The file
// is checked as it streams in; nothing is stored here.
func (m *Module) receive(r *http.Request) (up blob.Upload, name string, provider int64, err error) {
	// The app is spooled to a temporary file; a refusal after it arrived
	// (a broken multipart end) must not leave that file behind.
	var spooled blob.Upload
	defer func() {
		if err != nil {
			spooled.Close()
		}
	}()
	mr, err := r.MultipartReader()
	if err != nil {
		return blob.Upload{}, "", 0, &UploadError{Err: ErrEmptyFile, Detail: "send the app as multipart/form-data in the field \"file\""}
	}
	found := false
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mb *http.MaxBytesError
			switch {
			case errors.As(err, &mb):
				return blob.Upload{}, "", 0, refuse(ErrTooLarge, "the limit is %s", size(m.cfg.MaxUpload))
			case errors.Is(err, io.EOF):
			default:
				return blob.Upload{}, "", 0, refuse(ErrIncomplete, "%v", err)
			}
			break
		}
		switch part.FormName() {
		case "provider":
			b, _ := io.ReadAll(io.LimitReader(part, 32))
			provider, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		case "file":
			if found {
				break
			}
			found, name = true, part.FileName()
			up, err = ReadApp(part, name, m.cfg.MaxUpload, m.cfg.TempDir)
			spooled = up
			if err != nil {
				part.Close()
				return blob.Upload{}, "", 0, err
			}
		}
		part.Close()
	}
	if !found {
		return blob.Upload{}, "", 0, &UploadError{Err: ErrEmptyFile, Detail: "no file in the field \"file\""}
	}
	return up, name, provider, nil
}

// accept stores a checked upload for org (or, in lab mode, for the
// provider it names) and queues the scan. It removes the upload's
// temporary file whatever happens.
func (m *Module) accept(ctx context.Context, uploader Org, provider int64, user int64, up blob.Upload, name string) (Scan, error) {
	defer up.Close()
	owner := uploader
	if provider != 0 && provider != uploader.ID {
		// One answer for an organisation that does not exist and one the
		// uploader may not test, so that the field cannot be used to
		// probe which organisations exist and where.
		p, err := m.store.Org(ctx, provider)
		switch {
		case errors.Is(err, ErrNotFound):
			return Scan{}, errProvider
		case err != nil:
			return Scan{}, err
		case !MayTest(uploader, p):
			return Scan{}, errProvider
		}
		owner = p
	}
	sc, err := m.store.NewScan(ctx, owner, uploader, user, up, name, m.cfg.Queue.Enqueue)
	if err != nil {
		return Scan{}, err
	}
	if wk, ok := m.cfg.Queue.(waker); ok {
		wk.Wake()
	}
	return sc, nil
}

func uploadMessage(err error) (int, string) {
	var ue *UploadError
	if errors.As(err, &ue) {
		return ue.Status(), "Upload refused: " + ue.Error() + ". Nothing was stored."
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		return http.StatusBadRequest, "Upload refused: " + ie.Problem + ". Nothing was stored."
	}
	return 0, ""
}

func (m *Module) upload(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	up, name, provider, err := m.receive(r)
	if err == nil {
		var sc Scan
		sc, err = m.accept(r.Context(), o, provider, userID(r), up, name)
		if err == nil {
			http.Redirect(w, r, orgPath(o, fmt.Sprintf("/apps/scans/%d", sc.ID)), http.StatusSeeOther)
			return
		}
	}
	if status, msg := uploadMessage(err); status != 0 {
		m.renderApps(w, r, o, status, msg)
		return
	}
	m.fail(w, r, "upload", err)
}
