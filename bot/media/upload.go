package media

import (
	"context"
	"errors"
	"sync"

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
	w := &Worker{cfg: Config{DataDir: dataDir, ThumbSize: DefaultThumbSize}, lim: uploadLimits()}
	st, err := w.save(ctx, lianxin.MediaJob{Kind: lianxin.KindImage}, data, "")
	var rej *rejectError
	if errors.As(err, &rej) {
		return st, lianxin.Errorf(lianxin.EINVALID, "%s", rej.reason)
	}
	return st, err
}

// uploadLimits are the CPU share and memory budget staff uploads share
// (default sizes): a clerk uploading a dozen photos at once cannot take the
// cores the webhook needs any more than residents' photos can.
var uploadLimits = sync.OnceValue(func() *photoLimits {
	return newPhotoLimits(DefaultThumbSize, maxPixels, defaultPhotoCPU(), DefaultPhotoMemory)
})
