package web

import (
	"bytes"
	"encoding/base64"
	"image/png"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// QRDataURL draws text as a QR code of size×size pixels and returns it as a data: URL of a
// PNG, which the CSP allows as an image (img-src data:) without any request. The encoder is
// the one two-step verification already uses (through github.com/pquerna/otp).
func QRDataURL(text string, size int) (string, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", err
	}
	if code, err = barcode.Scale(code, size, size); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
