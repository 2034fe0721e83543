"""moto server, with DynamoDB transactions rolled back item by item instead of table by table.

moto 5.2's TransactWriteItems deep-copies every table a transaction touches (items and the table's stream records,
which moto never trims) so that it can restore the copy when a condition fails. Every write of this project is a
transaction (the revision counter, the object and its change-log entry commit together), so that copy made each
write cost time proportional to everything ever written: ~7 ms per write on an empty table, ~270 ms after 300
writes. This launcher keeps moto's own implementation and its semantics and changes only how the rollback state is
kept: it remembers the items a transaction touches (a copy for an Update, which may change an item in place; Put,
Delete and ConditionCheck replace or remove items) and each table's stream length, and puts them back if the
transaction fails.

It also keeps the table OBJECT across a failed transaction. moto's own rollback replaces the table with its copy, and
with it the table's stream shard: every shard iterator handed out before (GetRecords' NextShardIterator) still points
at the old shard, which never grows again, so a stream reader that follows NextShardIterator (the local stand-in for
the Pipe, tools/local/stream-poller.ts) silently stops seeing any write after the first cancelled transaction that
had an Update (an allocation block) in it.

And a transaction is atomic for stream readers, as in DynamoDB: GetRecords waits while a transaction runs. moto
appends a transaction's stream records one by one and removes them again on failure; a reader in between would see
records that never committed, advance past them, and then skip the committed records that reuse their sequence
numbers.

Usage: python3 moto_server.py [moto.server arguments], e.g. -H 127.0.0.1 -p 5000.
"""

import copy
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend
from moto.server import main

_original = DynamoDBBackend.transact_write_items
_original_get_records = DynamoDBStreamsBackend.get_records
_state = threading.local()
_ROLLBACK_BY_ITEM = {"Put", "Delete", "ConditionCheck", "Update"}
# Held by a whole transaction and by GetRecords: a stream reader never sees a transaction half-way.
_transaction_lock = threading.Lock()


def _table_deepcopy(self, memo):
    # Inside a transaction handled below, moto's "copy for rollback" is the live table: the rollback is ours.
    if getattr(_state, "by_item", False):
        return self
    return copy._reconstruct(self, memo, *self.__reduce_ex__(4))  # the default deepcopy


def _snapshot(backend, transact_items):
    """[(table, hash, range, item or None)] and {table id: (shard, length)}, or None to defer to moto."""
    saved, streams = [], {}
    for entry in transact_items:
        if len(entry) != 1:
            return None
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if op_type not in _ROLLBACK_BY_ITEM or table is None:
            return None
        key = op.get("Item") if op_type == "Put" else op.get("Key")
        if not key or table.hash_key_attr not in key:
            return None
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = None
        if table.range_key_attr is not None:
            if table.range_key_attr not in key:
                return None
            range_value = DynamoType(key[table.range_key_attr])
        item = table.get_item(hash_value, range_value)
        # An Update may change the stored item in place: keep a copy of it as it was.
        saved.append((table, hash_value, range_value, copy.deepcopy(item) if op_type == "Update" else item))
        if table.stream_shard is not None:
            streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
    return saved, streams


def _restore(saved, streams):
    for table, hash_value, range_value, item in reversed(saved):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item
    for shard, length in streams.values():
        del shard.items[length:]


def _transact_write_items(self, transact_items):
    with _transaction_lock:
        snapshot = _snapshot(self, transact_items) if len(transact_items) <= 100 else None
        if snapshot is None:
            return _original(self, transact_items)
        _state.by_item = True
        try:
            return _original(self, transact_items)
        except BaseException:
            _restore(*snapshot)
            raise
        finally:
            _state.by_item = False


def _get_records(self, iterator_arn, limit):
    with _transaction_lock:
        return _original_get_records(self, iterator_arn, limit)


Table.__deepcopy__ = _table_deepcopy
DynamoDBBackend.transact_write_items = _transact_write_items
DynamoDBStreamsBackend.get_records = _get_records

if __name__ == "__main__":
    main(sys.argv[1:])
