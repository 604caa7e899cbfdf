package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/accordwatch/accordwatch/pgstore"
	"github.com/spf13/cobra"
)

// migrateCmd applies or lists the PostgreSQL schema's migrations. serve
// and every other command apply pending ones at start anyway (under an
// advisory lock); this is for looking first, or migrating before a
// rolling start.
func migrateCmd(e *env) *cobra.Command {
	var status bool
	cmd := &cobra.Command{
		Use:   "migrate [--status]",
		Short: "Apply the PostgreSQL schema's pending migrations, or list them with --status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dbURL := e.databaseURL()
			if !dbURL.IsSet() {
				return errors.New("migrate needs " + envDatabaseURL + " (the bbolt store under data_dir has no migrations)")
			}
			if status {
				list, unknown, err := pgstore.MigrationStatus(cmd.Context(), dbURL)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
				pending := 0
				for _, m := range list {
					applied := "pending"
					if !m.Applied.IsZero() {
						applied = m.Applied.Format(time.RFC3339)
					} else {
						pending++
					}
					fmt.Fprintf(tw, "%04d\t%s\t%s\n", m.Version, m.Name, applied)
				}
				for _, v := range unknown {
					fmt.Fprintf(tw, "%04d\t?\tapplied by a newer accordwatch\n", v)
				}
				tw.Flush()
				fmt.Fprintf(e.stdout, "%d migrations, %d pending\n", len(list), pending)
				return nil
			}
			n, err := pgstore.Migrate(cmd.Context(), dbURL)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "applied %d migrations\n", n)
			return nil
		},
	}
	cmd.Flags().BoolVar(&status, "status", false, "list every migration and whether it was applied; change nothing")
	return cmd
}
