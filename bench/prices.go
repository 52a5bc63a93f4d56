package main

// Published on-demand prices in us-east-1 (US East, N. Virginia), as listed
// on the pages below when they were taken on PricesTakenOn. Free tiers and
// volume tiers are left out: these are the prices of the millionth job, not
// of the first. Update the numbers and the date together.
const PricesTakenOn = "2026-11-29"

// Price is one published unit price.
type Price struct {
	Name   string  `json:"name"`
	USD    float64 `json:"usd"`
	Per    string  `json:"per"`
	Source string  `json:"source"`
}

var (
	// DynamoDB on-demand: a write request unit is one write of up to 1 KB
	// (a transactional write takes two); a read request unit is one strongly
	// consistent read of up to 4 KB (two eventually consistent ones; a
	// transactional read takes two).
	priceWriteUnit = Price{"DynamoDB on-demand write request unit", 0.625 / 1e6, "WRU", "https://aws.amazon.com/dynamodb/pricing/on-demand/"}
	priceReadUnit  = Price{"DynamoDB on-demand read request unit", 0.125 / 1e6, "RRU", "https://aws.amazon.com/dynamodb/pricing/on-demand/"}
	// DynamoDB Standard table class storage, past the first 25 GB: items
	// and their index entries, each with 100 bytes of overhead.
	priceStorage = Price{"DynamoDB Standard storage", 0.25, "GB-month", "https://aws.amazon.com/dynamodb/pricing/on-demand/"}
	// SQS standard queues, first 100 billion requests a month; each 64 KB of
	// a payload is a request (job messages and wakes are a few dozen bytes).
	priceSQSRequest = Price{"SQS standard request", 0.40 / 1e6, "request", "https://aws.amazon.com/sqs/pricing/"}
	// Lambda on arm64 (Graviton), first 7.5 billion GB-seconds a month.
	priceLambdaRequest  = Price{"Lambda request", 0.20 / 1e6, "invocation", "https://aws.amazon.com/lambda/pricing/"}
	priceLambdaGBSecond = Price{"Lambda arm64 duration", 0.0000133334, "GB-second", "https://aws.amazon.com/lambda/pricing/"}
	// API Gateway HTTP APIs, first 300 million requests a month.
	priceHTTPAPIRequest = Price{"API Gateway HTTP API request", 1.00 / 1e6, "request", "https://aws.amazon.com/api-gateway/pricing/"}
)

var allPrices = []Price{priceWriteUnit, priceReadUnit, priceStorage, priceSQSRequest, priceLambdaRequest, priceLambdaGBSecond, priceHTTPAPIRequest}

// workerMemoryGB is the memory of the worker function the compute line
// assumes (128 MB), and referenceJobSeconds the handler time of that line.
const (
	workerMemoryGB      = 128.0 / 1024
	referenceJobSeconds = 1.0
)

// perMillion turns a per-job amount of some unit into dollars per million jobs.
func perMillion(perJob float64, p Price) float64 { return perJob * p.USD * 1e6 }
