"""The audit chain, below both the node and the auditors (docs/decisions/013-chain-package.md).

- `links`: how a record's place in its source's log is written (`seq`, `prev_hash`).
- `keys`: Ed25519 node keys, key files, the published key set (`Keyring`) and trust on first
  use (`KeyBook`).
- `signing`: signed checkpoints of a log head and their countersignature by the parent.
- `verifier`: the one chain verifier — per-source sequence, hash link and signature checks —
  used by the node's receiver, `audit verify` and the chaos checker.
"""
