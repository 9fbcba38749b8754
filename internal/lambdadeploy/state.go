package lambdadeploy

import (
	"context"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// AliasState is where a function's alias points: for status.
type AliasState struct {
	Function string `json:"function"`
	Alias    string `json:"alias"`
	// Version is empty when the alias does not exist yet.
	Version string `json:"version,omitempty"`
	// Routing is the extra versions' shares of a canary in progress.
	Routing map[string]float64 `json:"routing,omitempty"`
}

// State reads the alias (default "live"); it changes nothing.
func State(ctx context.Context, api LambdaAPI, function, alias string) (*AliasState, error) {
	if alias == "" {
		alias = "live"
	}
	st := &AliasState{Function: function, Alias: alias}
	a, err := api.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(function), Name: aws.String(alias)})
	switch {
	case code(err) == "ResourceNotFoundException":
		return st, nil
	case err != nil:
		return nil, fmt.Errorf("get alias %s of %s: %w", alias, function, err)
	}
	st.Version = aws.ToString(a.FunctionVersion)
	if a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0 {
		st.Routing = maps.Clone(a.RoutingConfig.AdditionalVersionWeights)
	}
	return st, nil
}

// Text is "version 4", or "version 3, 10% to version 4" during a canary.
func (s *AliasState) Text() string {
	if s.Version == "" {
		return "no alias yet"
	}
	if len(s.Routing) == 0 {
		return "version " + s.Version
	}
	return weights(s.Version, s.Routing)
}
