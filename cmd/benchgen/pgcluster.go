package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/accordwatch/accordwatch/internal/pgtest"
)

// startPG starts a throwaway PostgreSQL cluster under parent for the
// side-by-side benchmark (internal/pgtest's, found the same way: set
// ACCORDWATCH_TEST_PG_BIN or install Debian's postgresql), with the
// settings a competent engineer would give a search database instead of
// pgtest's many-tiny-test-databases defaults. Durability stays off (a
// benchmark load); the rest is read tuning: buffers that hold the hot
// partitions, no JIT (it costs short queries tens of milliseconds), SSD
// page costs, parallel workers for the 2 cores. The caller must Stop it.
func startPG(parent, sharedBuffers string) (*pgtest.Cluster, error) {
	if os.Geteuid() == 0 {
		// The server runs as the postgres user: every directory above
		// the cluster must be traversable by it.
		for p := parent; p != "/" && p != "."; p = filepath.Dir(p) {
			if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o001 == 0 {
				return nil, fmt.Errorf("%s is not traversable by the postgres user; pick another -pgdir", p)
			}
		}
	}
	c, err := pgtest.StartWith(pgtest.Options{Parent: parent, Settings: []string{
		"shared_buffers=" + sharedBuffers, "effective_cache_size=12GB", "work_mem=64MB",
		"maintenance_work_mem=1GB", "max_wal_size=8GB", "jit=off", "random_page_cost=1.1",
		"max_parallel_workers_per_gather=2", "max_parallel_maintenance_workers=2",
	}})
	if err != nil {
		return nil, fmt.Errorf("postgresql cluster: %w", err)
	}
	return c, nil
}
