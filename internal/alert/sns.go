package alert

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNSPublisher publishes alerts to an SNS topic (the stack's alarm topic).
type SNSPublisher struct {
	Client   *sns.Client
	TopicARN string
}

// Publish implements Publisher.
func (p SNSPublisher) Publish(ctx context.Context, subject, message string) error {
	if len(subject) > 100 {
		subject = subject[:100] // SNS's limit for subjects
	}
	_, err := p.Client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(p.TopicARN), Subject: aws.String(subject), Message: aws.String(message)})
	return err
}
