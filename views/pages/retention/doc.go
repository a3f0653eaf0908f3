// Package retention renders Settings > Data Retention.
package retention
