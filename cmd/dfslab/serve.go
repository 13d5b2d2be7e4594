package main

import (
	"context"
	"fmt"
	"io"
)

// placeholder until the serve command lands; replaced by its owner.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "dfslab serve: not built yet")
	return 2
}
