package main

import (
	"context"
	"io"
)

// cmdFakewx runs the fake WeChat API as a standalone server.
func cmdFakewx(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errNotImplemented
}
