package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// retryPolicy is @pulumi/command 1.2.1's dial retry: the Pulumi SDK's retry.Until with its
// defaults, i.e. a wait of 100 ms before the second attempt, growing by 1.5x and capped at 5 s,
// and dialErrorLimit+1 attempts in all (-1: no limit). With dialErrorLimit 30 that is 31 attempts
// and 111.3 s of waiting (plus the attempts themselves). after is time.After; tests replace it.
type retryPolicy struct {
	after func(time.Duration) <-chan time.Time
}

const (
	retryFirstDelay = 100 * time.Millisecond
	retryBackoff    = 1.5
	retryMaxDelay   = 5 * time.Second
)

var defaultRetry = retryPolicy{after: time.After}

// dialWithRetry calls dial until it succeeds, the limit is reached or ctx ends. Every failure is
// retried, a host key mismatch too (as upstream does). status reports "<msg> 3/30 failed: retrying"
// between attempts. The final error is upstream's: "after 30 failed attempts: <last error>" (it
// counts the retries: 31 attempts were made).
func dialWithRetry[T any](
	ctx context.Context, p retryPolicy, msg string, limit int, status func(string), dial func() (T, error),
) (T, error) {
	var zero T
	delay := retryFirstDelay
	for try := 0; ; try++ {
		delay = min(delay, retryMaxDelay)
		v, err := dial()
		if err == nil {
			return v, nil
		}
		dials := try + 1
		if limit > -1 && dials > limit {
			return zero, fmt.Errorf("after %d failed attempts: %w", try, err)
		}
		shown := strconv.Itoa(limit)
		if limit == -1 {
			shown = "inf"
		}
		status(fmt.Sprintf("%s %d/%s failed: retrying", msg, dials, shown))
		select {
		case <-p.after(delay):
		case <-ctx.Done():
			return zero, ctx.Err()
		}
		delay = time.Duration(float64(delay) * retryBackoff)
	}
}
