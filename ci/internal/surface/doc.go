// Package surface holds the checks of the module's Dagger surface: its
// tests read the module's functions from ../../*.go (go/parser, no engine)
// and hold them to the rules every function follows.
package surface
