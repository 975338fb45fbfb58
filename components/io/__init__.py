"""What the components share to read and write artifacts: `examples` (Examples splits, payload formats, record
batches), `tfrecord` (TFRecord files), `artifact_files` (an artifact's files, checked), `execution_path` (in
process or on Beam, by size)."""
