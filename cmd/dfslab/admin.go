package main

import (
	"context"
	"fmt"
	"io"
)

// placeholder until the admin command lands; replaced by its owner.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "dfslab admin: not built yet")
	return 2
}
