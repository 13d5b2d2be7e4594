package main

import (
	"context"
	"fmt"
	"io"
)

// placeholder until the scan command lands; replaced by its owner.
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "dfslab scan: not built yet")
	return 2
}
