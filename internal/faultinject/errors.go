package faultinject

import (
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Throttling returns the error the service answers a throttled request with,
// of the type the SDK deserializes it to, which the SDK's standard retryer
// retries as a throttling error:
//
//   - DynamoDB: *types.ProvisionedThroughputExceededException
//     ("ProvisionedThroughputExceededException");
//   - SQS: *types.RequestThrottled ("RequestThrottled");
//   - any other service: a *smithy.GenericAPIError with code
//     "ThrottlingException".
//
// Each call returns a new value.
func Throttling(service string) error {
	switch service {
	case DynamoDB:
		return &ddbtypes.ProvisionedThroughputExceededException{
			Message: ptr("The level of configured provisioned throughput for the table was exceeded. " +
				"Consider increasing your provisioning level with the UpdateTable API."),
		}
	case SQS:
		return &sqstypes.RequestThrottled{Message: ptr("Rate exceeded")}
	default:
		return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient}
	}
}

// ServerError returns the error the service answers with when it fails
// internally (HTTP 500), which the SDK's standard retryer retries:
//
//   - DynamoDB: *types.InternalServerError ("InternalServerError");
//   - SQS and any other service: a *smithy.GenericAPIError with code
//     "InternalFailure" and a server fault.
//
// Each call returns a new value.
func ServerError(service string) error {
	if service == DynamoDB {
		return &ddbtypes.InternalServerError{Message: ptr("Internal server error")}
	}
	return &smithy.GenericAPIError{
		Code:    "InternalFailure",
		Message: "The request processing has failed because of an unknown error, exception or failure.",
		Fault:   smithy.FaultServer,
	}
}

func ptr[T any](v T) *T { return &v }

// wrap gives an API error the HTTP response wrapper that the SDK puts around
// error responses, so that it reads like one. Other errors, and errors that
// already carry a response, are returned as they are.
func (i *Injector) wrap(err error) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		return err
	}
	status := http.StatusBadRequest
	if apiErr.ErrorFault() == smithy.FaultServer {
		status = http.StatusInternalServerError
	}
	i.mu.Lock()
	i.requests++
	reqID := fmt.Sprintf("faultinject-%08d", i.requests)
	i.mu.Unlock()
	resp := &http.Response{
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode: status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"X-Amzn-Requestid": []string{reqID}},
		Body:       http.NoBody,
	}
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: err},
		RequestID:     reqID,
	}
}
