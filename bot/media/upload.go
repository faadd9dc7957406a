package media

import (
	"context"
	"errors"

	"github.com/lianxin/lianxin"
)

// StorePhoto cleans and stores a photo staff uploaded from their computer
// (a walk-in's) exactly as residents' photos are stored: re-encoded without
// EXIF and GPS, with a thumbnail, named by its content, under dataDir. A
// file that is not a usable photo is a lianxin EINVALID error.
func StorePhoto(ctx context.Context, dataDir string, data []byte) (lianxin.StoredMedia, error) {
	if len(data) > DefaultMaxSize {
		return lianxin.StoredMedia{}, lianxin.Errorf(lianxin.EINVALID, "photo is %d bytes, over %d", len(data), DefaultMaxSize)
	}
	w := &Worker{cfg: Config{DataDir: dataDir, ThumbSize: DefaultThumbSize}, cpu: make(chan struct{}, 1)}
	st, err := w.save(ctx, lianxin.MediaJob{Kind: lianxin.KindImage}, data, "")
	var rej *rejectError
	if errors.As(err, &rej) {
		return st, lianxin.Errorf(lianxin.EINVALID, "%s", rej.reason)
	}
	return st, err
}
