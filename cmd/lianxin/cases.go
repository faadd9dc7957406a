package main

import (
	"context"
	"io"
)

func cmdCases(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errNotImplemented
}

func cmdCategories(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errNotImplemented
}
