//go:build !unix

package dex

import "time"

func processCPU() time.Duration { return 0 }
