package apitokens

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"

	"onramp/models"
)

// MaxKeyLength bounds an Idempotency-Key (a UUID takes 36 characters).
const MaxKeyLength = 255

// ErrKeyReused is an Idempotency-Key sent again with another request (method, path or body).
var ErrKeyReused = errors.New("this Idempotency-Key was used with a different request")

// ErrKeyInFlight is an Idempotency-Key whose first request has not answered yet.
var ErrKeyInFlight = errors.New("a request with this Idempotency-Key is still running")

// Response is a stored response to replay.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Claim reserves key for the token's request (method, path and body hashed together): nil, nil
// when the request is the first with the key and must run (then Finish or Release it); the
// first response when it ran already; ErrKeyReused or ErrKeyInFlight otherwise. Keys expire
// after IdempotencyTTL.
func (s *Service) Claim(ctx context.Context, tokenID int64, key, method, path string, body []byte) (*Response, error) {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\n"))
	h.Write(body)
	k := &models.APIIdempotencyKey{TokenID: tokenID, IdemKey: key, RequestHash: hex.EncodeToString(h.Sum(nil)), CreatedAt: s.now()}
	first, prev, err := s.store.ReserveIdempotencyKey(ctx, k, s.now().Add(-IdempotencyTTL))
	switch {
	case err != nil:
		return nil, err
	case first:
		return nil, nil
	case prev.RequestHash != k.RequestHash:
		return nil, ErrKeyReused
	case prev.Status == 0:
		return nil, ErrKeyInFlight
	}
	body, err = s.open(tokenID, key, prev.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: prev.Status, ContentType: prev.ContentType, Body: body}, nil
}

// Finish keeps the response of the request that claimed key, sealed.
func (s *Service) Finish(ctx context.Context, tokenID int64, key string, r Response) error {
	return s.store.FinishIdempotencyKey(ctx, tokenID, key, r.Status, r.ContentType, s.box.Seal(string(r.Body), aad(tokenID, key)))
}

// Release frees key: its request failed, so a retry runs again.
func (s *Service) Release(ctx context.Context, tokenID int64, key string) error {
	return s.store.ReleaseIdempotencyKey(ctx, tokenID, key)
}

func (s *Service) open(tokenID int64, key, sealed string) ([]byte, error) {
	plain, err := s.box.Open(sealed, aad(tokenID, key))
	return []byte(plain), err
}

// aad binds a stored response to its token and key.
func aad(tokenID int64, key string) string {
	return "api-idempotency|" + strconv.FormatInt(tokenID, 10) + "|" + key
}
