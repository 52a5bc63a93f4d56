package schema_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/schema"
	"github.com/dainostore/jobs/internal/testenv"
)

// A table made before an index was added (a long-running local emulator
// keeps its tables) is refused with what to do, rather than failing later
// on the first query of the index.
func TestCreateTableRefusesATableThatLacksAnIndex(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	db := env.DynamoDB()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := env.Config.TableName + "-older"
	older := schema.CreateTableInput(schema.Table, name)
	older.GlobalSecondaryIndexes = older.GlobalSecondaryIndexes[:len(older.GlobalSecondaryIndexes)-1] // the newest, the finished index
	var definitions []dbtypes.AttributeDefinition
	for _, d := range older.AttributeDefinitions {
		if aws.ToString(d.AttributeName) != schema.FinishedIndexSK {
			definitions = append(definitions, d)
		}
	}
	older.AttributeDefinitions = definitions
	if _, err := db.CreateTable(ctx, older); err != nil {
		t.Fatal(err)
	}
	err := schema.CreateTable(ctx, db, schema.Table, name)
	if err == nil || !strings.Contains(err.Error(), "lacks the index(es) "+schema.FinishedIndex) || !strings.Contains(err.Error(), "make emulators-stop") {
		t.Errorf("starting on a table without the %s index: %v, want a clear error", schema.FinishedIndex, err)
	}
	// A table made by this version passes.
	if err := schema.CreateTable(ctx, db, schema.Table, env.Config.TableName); err != nil {
		t.Error(err)
	}
}
