package awssim

// SigV4AKey exposes the SigV4A key derivation to the external tests.
var SigV4AKey = sigV4AKey
