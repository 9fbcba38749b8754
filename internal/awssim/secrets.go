package awssim

// Secrets simulates the service's API. (Filled in by its own change.)
type Secrets struct{ s *Server }

func newSecrets(s *Server) *Secrets { return &Secrets{s: s} }

func (x *Secrets) handle(op string, body []byte) (any, error) {
	return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
}
