// Package connection keeps each store's marketplace connections: the
// credentials a store gave for Shopify, Akeneo, Amazon or eBay, checked with
// the marketplace before they are saved, encrypted at rest, and read only by
// the jobs that use them. Nothing here ever returns a secret to a caller
// outside the service: a connection's public view is its state and the
// account it names.
//
// Encryption is envelope encryption: every save asks KMS for a fresh data
// key (GenerateDataKey, AES-256) bound to the store and marketplace by the
// encryption context, seals the credentials with it (AES-GCM), and keeps
// only the KMS-encrypted copy of the key beside the sealed bytes. Reading
// them back needs kms:Decrypt on the key with the same context, so an item
// copied to another store's partition cannot be opened there.
package connection

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// States of a connection.
const (
	StateConnected    = "connected"
	StateInvalid      = "invalid"
	StateNotConnected = "not_connected"
)

// Connection is what anyone may see of a store's connection to a marketplace.
type Connection struct {
	Marketplace string `json:"marketplace"`
	State       string `json:"state"`
	// Account names the account without a secret (the shop's domain, the
	// seller id).
	Account      map[string]any `json:"account,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	InvalidSince *job.Time      `json:"invalid_since,omitempty"`
	ConnectedAt  *job.Time      `json:"connected_at,omitempty"`
	VerifiedAt   *job.Time      `json:"verified_at,omitempty"`
	// Version identifies the saved credentials: a job that finds them
	// rejected marks only those invalid, never newer ones saved meanwhile.
	Version string `json:"-"`
}

// ErrNotConnected is a marketplace the store has not connected.
var ErrNotConnected = errors.New("not connected")

// Store keeps the connections in the catalog table, in the store's
// partition under CONNECTION#<marketplace>.
type Store struct {
	db    *dynamodb.Client
	table string
	kms   *kms.Client
	keyID string
	clock clock.Clock
}

// NewStore returns the connections kept in table, encrypted under the KMS key keyID.
func NewStore(db *dynamodb.Client, table string, kmsClient *kms.Client, keyID string, clk clock.Clock) *Store {
	if clk == nil {
		clk = clock.Real
	}
	return &Store{db: db, table: table, kms: kmsClient, keyID: keyID, clock: clk}
}

const sortKeyPrefix = "CONNECTION#"

func itemKey(storeID, marketplace string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.PartitionKey: &types.AttributeValueMemberS{Value: catalog.PartitionKey(storeID)},
		schema.SortKey:      &types.AttributeValueMemberS{Value: sortKeyPrefix + marketplace},
	}
}

func encryptionContext(storeID, marketplace string) map[string]string {
	return map[string]string{"store_id": storeID, "marketplace": marketplace}
}

// Save encrypts and saves a store's credentials for a marketplace, already
// checked with it, replacing any before. account is their public part.
func (s *Store) Save(ctx context.Context, storeID, marketplace string, credentials any, account map[string]any) (Connection, error) {
	plain, err := json.Marshal(credentials)
	if err != nil {
		return Connection{}, err
	}
	dataKey, err := s.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(s.keyID), KeySpec: kmstypes.DataKeySpecAes256,
		EncryptionContext: encryptionContext(storeID, marketplace),
	})
	if err != nil {
		return Connection{}, fmt.Errorf("connection: new data key: %w", err)
	}
	sealed, nonce, err := seal(dataKey.Plaintext, plain, aad(storeID, marketplace))
	clear(dataKey.Plaintext)
	if err != nil {
		return Connection{}, err
	}
	accountJSON, err := json.Marshal(account)
	if err != nil {
		return Connection{}, err
	}
	now := job.NewTime(s.clock.Now())
	version := randomVersion()
	item := itemKey(storeID, marketplace)
	item["state"] = &types.AttributeValueMemberS{Value: StateConnected}
	item["account"] = &types.AttributeValueMemberS{Value: string(accountJSON)}
	item["connected_at"] = &types.AttributeValueMemberS{Value: now.Format(job.TimeLayout)}
	item["verified_at"] = &types.AttributeValueMemberS{Value: now.Format(job.TimeLayout)}
	item["version"] = &types.AttributeValueMemberS{Value: version}
	item["kms_key_id"] = &types.AttributeValueMemberS{Value: aws.ToString(dataKey.KeyId)}
	item["data_key"] = &types.AttributeValueMemberB{Value: dataKey.CiphertextBlob}
	item["nonce"] = &types.AttributeValueMemberB{Value: nonce}
	item["sealed"] = &types.AttributeValueMemberB{Value: sealed}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return Connection{}, fmt.Errorf("connection: save: %w", err)
	}
	return Connection{Marketplace: marketplace, State: StateConnected, Account: account, ConnectedAt: &now, VerifiedAt: &now, Version: version}, nil
}

// Get reads a connection's public view (no decryption); ErrNotConnected
// when there is none.
func (s *Store) Get(ctx context.Context, storeID, marketplace string) (Connection, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(storeID, marketplace), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("sk, #state, account, reason, invalid_since, connected_at, verified_at, version"),
		ExpressionAttributeNames: map[string]string{"#state": "state"},
	})
	if err != nil {
		return Connection{}, fmt.Errorf("connection: read: %w", err)
	}
	if out.Item == nil {
		return Connection{}, ErrNotConnected
	}
	return view(marketplace, out.Item)
}

// List returns the store's connection to each of the marketplaces, in
// their order; one not connected has the state not_connected.
func (s *Store) List(ctx context.Context, storeID string, marketplaces []string) ([]Connection, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: catalog.PartitionKey(storeID)},
			":prefix": &types.AttributeValueMemberS{Value: sortKeyPrefix},
		},
		ProjectionExpression:     aws.String("sk, #state, account, reason, invalid_since, connected_at, verified_at, version"),
		ExpressionAttributeNames: map[string]string{"#state": "state"},
	})
	if err != nil {
		return nil, fmt.Errorf("connection: list: %w", err)
	}
	saved := map[string]Connection{}
	for _, item := range out.Items {
		name := attr(item, "sk")[len(sortKeyPrefix):]
		c, err := view(name, item)
		if err != nil {
			return nil, err
		}
		saved[name] = c
	}
	list := make([]Connection, 0, len(marketplaces))
	for _, name := range marketplaces {
		c, ok := saved[name]
		if !ok {
			c = Connection{Marketplace: name, State: StateNotConnected}
		}
		list = append(list, c)
	}
	return list, nil
}

// Load decrypts a store's credentials for a marketplace into credentials
// and returns the connection; ErrNotConnected when there are none.
func (s *Store) Load(ctx context.Context, storeID, marketplace string, credentials any) (Connection, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(storeID, marketplace), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Connection{}, fmt.Errorf("connection: read: %w", err)
	}
	if out.Item == nil {
		return Connection{}, ErrNotConnected
	}
	c, err := view(marketplace, out.Item)
	if err != nil {
		return Connection{}, err
	}
	dataKey, err := s.kms.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob: bytesAttr(out.Item, "data_key"), KeyId: aws.String(attr(out.Item, "kms_key_id")),
		EncryptionContext: encryptionContext(storeID, marketplace),
	})
	if err != nil {
		return Connection{}, fmt.Errorf("connection: decrypt data key: %w", err)
	}
	plain, err := open(dataKey.Plaintext, bytesAttr(out.Item, "sealed"), bytesAttr(out.Item, "nonce"), aad(storeID, marketplace))
	clear(dataKey.Plaintext)
	if err != nil {
		return Connection{}, err
	}
	if err := json.Unmarshal(plain, credentials); err != nil {
		return Connection{}, fmt.Errorf("connection: decode credentials: %w", err)
	}
	return c, nil
}

// Delete removes a store's connection to a marketplace; removing one that
// does not exist is no error.
func (s *Store) Delete(ctx context.Context, storeID, marketplace string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(storeID, marketplace)})
	if err != nil {
		return fmt.Errorf("connection: delete: %w", err)
	}
	return nil
}

// MarkInvalid records that the marketplace rejected the credentials of
// version, with its reason. Credentials saved since are left alone, and a
// connection already invalid keeps the time it became so.
func (s *Store) MarkInvalid(ctx context.Context, storeID, marketplace, version, reason string) error {
	now := job.NewTime(s.clock.Now()).Format(job.TimeLayout)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      itemKey(storeID, marketplace),
		UpdateExpression:         aws.String("SET #state = :invalid, reason = :reason, invalid_since = if_not_exists(invalid_since, :now)"),
		ConditionExpression:      aws.String("version = :version"),
		ExpressionAttributeNames: map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":invalid": &types.AttributeValueMemberS{Value: StateInvalid},
			":reason":  &types.AttributeValueMemberS{Value: truncate(reason, 1000)},
			":now":     &types.AttributeValueMemberS{Value: now},
			":version": &types.AttributeValueMemberS{Value: version},
		},
	})
	var changed *types.ConditionalCheckFailedException
	if errors.As(err, &changed) {
		return nil // re-configured or removed meanwhile: nothing to mark
	}
	if err != nil {
		return fmt.Errorf("connection: mark invalid: %w", err)
	}
	return nil
}

func view(marketplace string, item map[string]types.AttributeValue) (Connection, error) {
	c := Connection{Marketplace: marketplace, State: attr(item, "state"), Reason: attr(item, "reason"), Version: attr(item, "version")}
	if raw := attr(item, "account"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &c.Account); err != nil {
			return Connection{}, fmt.Errorf("connection: decode account: %w", err)
		}
	}
	for name, dst := range map[string]**job.Time{"invalid_since": &c.InvalidSince, "connected_at": &c.ConnectedAt, "verified_at": &c.VerifiedAt} {
		if v := attr(item, name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return Connection{}, fmt.Errorf("connection: %s: %w", name, err)
			}
			jt := job.NewTime(t)
			*dst = &jt
		}
	}
	return c, nil
}

func attr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func bytesAttr(item map[string]types.AttributeValue, name string) []byte {
	if v, ok := item[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

// aad binds the sealed bytes to their store and marketplace, as the
// encryption context binds the data key.
func aad(storeID, marketplace string) []byte { return []byte(storeID + "\x00" + marketplace) }

func seal(key, plain, additional []byte) (sealed, nonce []byte, err error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return gcm.Seal(nil, nonce, plain, additional), nonce, nil
}

func open(key, sealed, nonce, additional []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, sealed, additional)
	if err != nil {
		return nil, fmt.Errorf("connection: credentials do not decrypt: %w", err)
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("connection: data key: %w", err)
	}
	return cipher.NewGCM(block)
}

func randomVersion() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
