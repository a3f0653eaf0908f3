package store

import (
	"sync"
	"time"

	"onramp/models"
)

// pageCacheTTL is how long the console's menus read from the cache (the origins of an
// account's users, its open run): the longest another server's change takes to show. This
// server's own changes drop the entries at once (and again when their transaction commits).
const pageCacheTTL = 3 * time.Second

// ttlCache keeps values for pageCacheTTL. It is a map and a lock rather than a library's LRU:
// hashicorp/golang-lru's expirable cache starts a goroutine per cache that never ends (one
// per Store opened, tests open hundreds), and these caches hold one small entry per account.
type ttlCache[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]ttlEntry[V]
	now     func() time.Time
}

type ttlEntry[V any] struct {
	value   V
	expires time.Time
}

// maxCacheEntries bounds a cache: past it, it starts again empty.
const maxCacheEntries = 10_000

func newTTLCache[K comparable, V any]() *ttlCache[K, V] {
	return &ttlCache[K, V]{entries: map[K]ttlEntry[V]{}, now: time.Now}
}

func (c *ttlCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !c.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

func (c *ttlCache[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCacheEntries {
		clear(c.entries)
	}
	c.entries[k] = ttlEntry[V]{v, c.now().Add(pageCacheTTL)}
}

func (c *ttlCache[K, V]) forget(k K) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

func (c *ttlCache[K, V]) forgetAll() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// runKey names an account's open run of a kind.
type runKey struct {
	accountID int64
	kind      models.RunKind
}

// caches are what every Store of one database shares (the Stores of its transactions too).
type caches struct {
	origins  *ttlCache[int64, []string]
	openRuns *ttlCache[runKey, *models.Run] // nil: none open
}

func newCaches() *caches {
	return &caches{origins: newTTLCache[int64, []string](), openRuns: newTTLCache[runKey, *models.Run]()}
}

// changed runs forget now and, inside a transaction, once more after it commits: a reader
// that filled the cache from before the commit would otherwise keep the old value until it
// expires.
func (s *Store) changed(forget func()) {
	forget()
	if s.afterCommit != nil {
		*s.afterCommit = append(*s.afterCommit, forget)
	}
}
