package awssim

// Logs simulates the service's API. (Filled in by its own change.)
type Logs struct{ s *Server }

func newLogs(s *Server) *Logs { return &Logs{s: s} }

func (x *Logs) handle(op string, body []byte) (any, error) {
	return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
}
