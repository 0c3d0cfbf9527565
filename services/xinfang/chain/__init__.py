"""The audit chain, below both the node and the auditors (docs/decisions/013-chain-package.md).

- `links`: how a record's place in its source's log is written (`seq`, `prev_hash`).
- `keys`: Ed25519 node keys, key files, the published keys (`Keyring`: key sets by division,
  `lookup` by key id and time) and `KeyBook` (the auditors' trust on first use for checkpoints).
- `keysets`: a division's published key set (`keys/<division>.keys.json`), validity periods,
  endorsed rotation (decision 021).
- `record_signing`: the per-record signature `xinfang_sig` and the addressing headers
  `xinfang_to`/`xinfang_prev_to` (decisions 021, 022).
- `signing`: signed checkpoints of a log head and their countersignature by the parent.
- `verifier`: the one chain verifier — per-source sequence, hash link and signature checks —
  used by the node's receiver, `audit verify` and the chaos checker.
"""
