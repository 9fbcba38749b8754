package awssim

// ECR simulates the service's API. (Filled in by its own change.)
type ECR struct{ s *Server }

func newECR(s *Server) *ECR { return &ECR{s: s} }

func (x *ECR) handle(op string, body []byte) (any, error) {
	return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
}
