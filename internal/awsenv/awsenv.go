// Package awsenv turns esteira's AWS settings (region, optional endpoint
// override, optional static credentials) into an aws.Config, validating
// them first so a typo fails with a clear message before any AWS call.
package awsenv

import (
	"net/http"
	"time"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/futuraplataforma/esteira/internal/setting"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Options are the AWS settings a user gives esteira.
type Options struct {
	// Region is required, e.g. "eu-west-1".
	Region string
	// Endpoint overrides every service's endpoint (the AWS_ENDPOINT_URL
	// convention), e.g. "http://127.0.0.1:4566" for a local stack.
	Endpoint string
	// S3Endpoint overrides the endpoint of S3 alone (the AWS_ENDPOINT_URL_S3
	// convention), e.g. when S3 lives elsewhere than Endpoint.
	S3Endpoint string
	// AccessKeyID, SecretAccessKey and SessionToken are static credentials.
	// When both key fields are empty, the SDK's default chain is used.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// String describes the options with the secret key and session token
// redacted, so printing Options (in an error, a log line, %+v) never shows them.
func (o Options) String() string {
	return fmt.Sprintf("Options{Region: %q, Endpoint: %q, AccessKeyID: %q, SecretAccessKey: %q, SessionToken: %q}",
		o.Region, o.Endpoint, o.AccessKeyID, redact(o.SecretAccessKey), redact(o.SessionToken))
}

// GoString is String, so %#v does not print the secrets either.
func (o Options) GoString() string { return o.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, ...).
func (o Options) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", o.String())
		return
	}
	fmt.Fprint(f, o.String())
}

// LogValue keeps the secrets out of slog output.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(slog.String("region", o.Region), slog.String("endpoint", o.Endpoint),
		slog.String("accessKeyId", o.AccessKeyID), slog.String("secretAccessKey", redact(o.SecretAccessKey)),
		slog.String("sessionToken", redact(o.SessionToken)))
}

// MarshalJSON keeps the secrets out of JSON output.
func (o Options) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"region": o.Region, "endpoint": o.Endpoint, "accessKeyId": o.AccessKeyID,
		"secretAccessKey": redact(o.SecretAccessKey), "sessionToken": redact(o.SessionToken)})
}

func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return "<redacted>"
}

var regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$`) // eu-west-1, us-gov-west-1, eusc-de-east-1

// Validate checks the settings without calling AWS. Each error names the
// setting to fix (setting.Names): Region, Endpoint, S3Endpoint,
// AccessKeyID, SecretAccessKey, SessionToken.
func (o Options) Validate() error {
	if o.Region == "" {
		return setting.Of("Region", errors.New("region is empty: name the AWS region, for example eu-west-1"))
	}
	if !regionPattern.MatchString(o.Region) {
		return setting.Of("Region", fmt.Errorf("region %q is not an AWS region name: name one like eu-west-1 or us-east-1", o.Region))
	}
	for _, e := range [][3]string{{"Endpoint", "AWS endpoint", o.Endpoint}, {"S3Endpoint", "S3 endpoint", o.S3Endpoint}} {
		name, what, v := e[0], e[1], e[2]
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return setting.Of(name, fmt.Errorf("%s %q is not an http(s) URL: give it like http://127.0.0.1:4566", what, v))
		}
	}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		missing := "AccessKeyID"
		if o.SecretAccessKey == "" {
			missing = "SecretAccessKey"
		}
		return setting.Of(missing, errors.New("credentials are incomplete: give both the access key ID and the secret access key, or neither to use the default credential chain"))
	}
	if o.SessionToken != "" && o.AccessKeyID == "" {
		return setting.Of("AccessKeyID", errors.New("a session token was given without the access key ID and secret access key it belongs to"))
	}
	return nil
}

// ResponseHeaderTimeout bounds the wait for an AWS answer once a request
// has been sent (the upload of its body not included).
const ResponseHeaderTimeout = 2 * time.Minute

// Load validates the options and returns an aws.Config using the SDK's
// standard retryer (throttling and transient errors are retried with
// backoff).
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if err := o.Validate(); err != nil {
		return aws.Config{}, err
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(o.Region),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 6 })
		}),
		// A connection that stalls after the request was sent (a dropped
		// tunnel, a wedged proxy) must fail and be retried, not hang the
		// release forever: the SDK's client has no such timeout by default.
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.ResponseHeaderTimeout = ResponseHeaderTimeout
		})),
	}
	if o.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, o.SessionToken)))
	}
	if o.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(o.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// S3Client returns an S3 client for cfg, sent to o.S3Endpoint when set.
// With an endpoint override it uses path-style addressing, which local S3
// servers need.
func S3Client(cfg aws.Config, o Options) *s3.Client {
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.S3Endpoint != "" {
			so.BaseEndpoint = &o.S3Endpoint
		}
		so.UsePathStyle = o.Endpoint != "" || o.S3Endpoint != ""
	})
}

// Identity asks STS who the credentials belong to. It doubles as an early
// credentials check: a wrong key fails here, before anything is changed, with
// an error that names the setting to fix.
func Identity(ctx context.Context, cfg aws.Config) (string, error) {
	what := fmt.Sprintf("check AWS credentials with sts:GetCallerIdentity (region %s)", cfg.Region)
	if cfg.Credentials == nil {
		return "", noKeys(fmt.Errorf("%s: no credentials: %s", what, giveKeys))
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", noKeys(fmt.Errorf("%s: the default credential chain found no credentials (%s); nothing was changed: %w", what, giveKeys, err))
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if hint, names := credentialsHint(err, creds.Source == credentials.StaticCredentialsName, cfg.Region); hint != "" {
			err = fmt.Errorf("%s: %s; nothing was changed: %w", what, hint, err)
			for i := len(names) - 1; i >= 0; i-- {
				err = setting.Of(names[i], err)
			}
			return "", err
		}
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return aws.ToString(out.Arn), nil
}

// noKeys marks err as fixed by giving keys.
func noKeys(err error) error { return setting.Of("AccessKeyID", setting.Of("SecretAccessKey", err)) }

const giveKeys = "give an access key ID and a secret access key (and a session token for temporary credentials), " +
	"or run where an instance or task role is available"

// credentialsHint says what AWS refused, from the error code of a failed
// call, and the settings that fix it; "" when the error is not about the
// credentials or the region.
func credentialsHint(err error, static bool, region string) (string, []string) {
	keys := "the credentials from the default credential chain"
	if static {
		keys = "the access key ID and secret access key given"
	}
	var apiErr smithy.APIError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &apiErr):
		switch code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage(); {
		case strings.Contains(msg, "scoped to a valid region"):
			return fmt.Sprintf("AWS refused requests signed for region %q: check the region", region), []string{"Region"}
		case code == "InvalidClientTokenId" || code == "UnrecognizedClientException":
			if static {
				return "AWS does not know the access key ID given: check it (and the session token, for temporary credentials)", []string{"AccessKeyID", "SessionToken"}
			}
			return "AWS does not know the access key of " + keys + ": check them, or give an access key ID and a secret access key", []string{"AccessKeyID", "SecretAccessKey"}
		case code == "SignatureDoesNotMatch" || code == "InvalidSignatureException":
			if static {
				return "the secret access key given does not belong to the access key ID: check the secret access key", []string{"SecretAccessKey"}
			}
			return "AWS refused the signature made with " + keys + ": check them", []string{"AccessKeyID", "SecretAccessKey"}
		case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired":
			return keys + " have expired: get fresh ones (for example a new session token) and run again", []string{"SessionToken"}
		}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("the AWS endpoint's host %s does not exist: check the region (%q) and the endpoint", dnsErr.Name, region), []string{"Region", "Endpoint"}
	}
	return "", nil
}

// AssumeRole returns cfg with credentials of role, assumed with cfg's own
// (refreshed by the SDK before they expire), and checks them with STS.
// session names the session in CloudTrail.
func AssumeRole(ctx context.Context, cfg aws.Config, role, session string) (aws.Config, string, error) {
	out := cfg.Copy()
	out.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = session }))
	who, err := Identity(ctx, out)
	if err != nil {
		return aws.Config{}, "", fmt.Errorf("assume role %s: %w", role, err)
	}
	return out, who, nil
}
