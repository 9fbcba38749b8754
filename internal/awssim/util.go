package awssim

import (
	"encoding/json"
	"errors"
	"net/url"
)

func asAPIError(err error, target **APIError) bool { return errors.As(err, target) }

func parseForm(body []byte) (url.Values, error) { return url.ParseQuery(string(body)) }

// decode unmarshals a JSON request body into in, as a 400 SerializationException on failure.
func decode(body []byte, in any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		return clientError("SerializationException", "%v", err)
	}
	return nil
}
