package awssim

// ECS simulates the service's API. (Filled in by its own change.)
type ECS struct{ s *Server }

func newECS(s *Server) *ECS { return &ECS{s: s} }

func (x *ECS) handle(op string, body []byte) (any, error) {
	return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
}
