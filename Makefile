# The README's commands; `make bench` is the figure the README quotes.
.PHONY: run test bench bench-postgres

run:
	go run ./cmd/lianxin serve

test:
	go test -race ./...

# Needs a Redis at LIANXIN_REDIS_URL (default 127.0.0.1:6379) to measure the
# real thing; without one it falls back to the embedded server and says so.
bench:
	go run ./cmd/lianxin-dev bench -senders 32 -conversations 2000 -rounds 3

# The same on PostgreSQL: LIANXIN_BENCH_DB names a throwaway database (its
# cases are left there), e.g. postgres://postgres@127.0.0.1:5432/lianxin_bench?sslmode=disable
bench-postgres:
	go run ./cmd/lianxin-dev bench -senders 32 -conversations 2000 -rounds 3 -db "$(LIANXIN_BENCH_DB)"
