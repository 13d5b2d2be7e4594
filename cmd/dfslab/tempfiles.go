package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/dfslab/dfslab/internal/blob"
)

// cleanTemp removes the temporary upload files that a process killed in
// the middle of an upload (kill -9, power loss) left in the system's
// temporary directory, where serve spools uploads. Only files older than
// blob.StaleTemp go: the directory is shared with the other dfslab
// processes of the host, whose uploads in progress must stay.
func cleanTemp(log *slog.Logger) {
	n, err := blob.CleanTemp("", blob.StaleTemp, time.Now())
	if err != nil {
		log.Warn("clean temporary files", "err", err)
	}
	if n > 0 {
		log.Info("removed temporary files left by an interrupted upload", "count", n)
	}
}

// tempHousekeeping runs cleanTemp at once and then every interval until
// ctx ends: a file left by a crash shortly before this start is not stale
// yet, and is removed by a later round.
func tempHousekeeping(ctx context.Context, interval time.Duration, log *slog.Logger) {
	cleanTemp(log)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cleanTemp(log)
		}
	}
}
