package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
)

// migrations are applied in order. A real service would read them from
// embedded SQL files and record each one in a schema_migrations table.
var migrations = []string{
	"0001_create_users: CREATE TABLE users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL)",
	"0002_add_users_created_at: ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()",
}

// errNoDatabaseURL is returned when DATABASE_URL is unset: esteira's
// migration gate then stops the deploy before the service changes.
var errNoDatabaseURL = errors.New("DATABASE_URL is not set: add it to the task definition " +
	"(for example as a Secrets Manager secret) so the migration task can reach the database")

// migrate prints each migration it applies to dsn. It never prints the
// DSN's password.
func migrate(ctx context.Context, dsn string, out io.Writer) error {
	if dsn == "" {
		return errNoDatabaseURL
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return errors.New("DATABASE_URL is not a URL like postgres://user:password@host:5432/db")
	}
	fmt.Fprintf(out, "migrating %s://%s%s\n", u.Scheme, u.Host, u.Path)
	for _, m := range migrations {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		fmt.Fprintf(out, "apply %s\n", m)
	}
	fmt.Fprintf(out, "%d migrations applied\n", len(migrations))
	return nil
}
