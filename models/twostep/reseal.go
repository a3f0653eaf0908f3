package twostep

import (
	"context"

	"onramp/models/store"
)

// Reseal rewrites every value of kind that box opens only with the previous secret's key under
// the current one (onramp secret reseal); aad builds a row's associated data.
func Reseal(ctx context.Context, s *store.Store, kind store.SealedKind, box *Sealer, aad func(store.Sealed) string) (store.Resealed, error) {
	return s.Reseal(ctx, kind, func(v store.Sealed) (store.Sealed, bool, error) {
		sealed, changed, err := box.Reseal(v.Value, aad(v))
		if err != nil {
			return v, false, store.ErrUnreadable
		}
		v.Value = sealed
		return v, changed, nil
	})
}
