package awsenv_test

import (
	"strings"
	"testing"

	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAssumeRole_TheIdentityIsTheRole(t *testing.T) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	cfg, err := awsenv.Load(t.Context(), awsenv.Options{Region: o.Region, Endpoint: url, AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey})
	require.NoError(t, err)
	_, who, err := awsenv.AssumeRole(t.Context(), cfg, "arn:aws:iam::"+o.AccountID+":role/esteira-deploy", "esteira-test")
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sts::"+o.AccountID+":assumed-role/esteira-deploy/esteira-test", who)
	assert.Equal(t, 1, sim.Count("sts", "AssumeRole"))

	_, _, err = awsenv.AssumeRole(t.Context(), cfg, "arn:aws:iam::999999999999:role/elsewhere", "esteira-test")
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "assume role arn:aws:iam::999999999999:role/elsewhere") && strings.Contains(err.Error(), "AccessDenied"), err.Error())
}
