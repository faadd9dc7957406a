package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/flows"
	"github.com/lianxin/lianxin/internal/service"
)

func cmdCategories(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 2 || args[0] != "suggest" {
		return usageError("categories")
	}
	cfg, err := configs.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	data, err := service.LoadData(cfg)
	if err != nil {
		return err
	}
	text := strings.Join(args[1:], " ")
	cl := flows.NewClassifier(data.Categories)
	best, confident := cl.Suggest(text)
	name := data.Categories.Name(best.Key)
	verdict := "confident"
	if !confident {
		verdict = "not confident: the resident is shown the full list"
	}
	fmt.Fprintf(stdout, "%s %s (score %.1f, %s)\n", best.Key, name, best.Score, verdict)
	for i, s := range cl.Rank(text) {
		if i >= 3 || s.Score <= 0 {
			break
		}
		fmt.Fprintf(stdout, "  %-12s %.1f\n", s.Key, s.Score)
	}
	return nil
}
