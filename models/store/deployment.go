package store

import (
	"context"

	"gorm.io/gorm/clause"
)

// deploymentSetting is a value of the whole deployment, shared by its instances.
type deploymentSetting struct {
	Name  string `gorm:"primaryKey"`
	Value string
}

// KeyCheckSetting names the key check value of ONRAMP_SECRET (secret.Keys.CheckValue).
const KeyCheckSetting = "key_check"

// InitDeploymentSetting stores value under name unless a value is stored already, and returns
// the stored one: of instances starting at once, the first to commit sets it.
func (s *Store) InitDeploymentSetting(ctx context.Context, name, value string) (string, error) {
	err := s.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&deploymentSetting{Name: name, Value: value}).Error
	if err != nil {
		return "", wrap(err)
	}
	v, err := first[deploymentSetting](s.q(ctx).Where("name = ?", name))
	if err != nil {
		return "", err
	}
	return v.Value, nil
}

// SetDeploymentSetting stores value under name, replacing the stored one.
func (s *Store) SetDeploymentSetting(ctx context.Context, name, value string) error {
	return wrap(s.q(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&deploymentSetting{Name: name, Value: value}).Error)
}
