#pragma once
// Checking a checkpoint folder before loading it, and finding Falcon Mamba checkpoints that are
// already on disk (the Hugging Face hub cache). Cheap file-system work only: a config.json
// parse and a few existence checks, never the weights.

#include <QList>
#include <QProcessEnvironment>
#include <QString>

namespace fm::app {

struct CheckpointCheck {
    bool ok = false;
    QString message;      // what is wrong (for the user), or a one-line summary when ok
    QString displayName;  // "falcon-mamba-7b-instruct" for a hub snapshot, else the folder name
    QString modelType;    // "falcon_mamba" or "mamba"
    qint64 parameterCount = 0;
};

// config.json parsed with fm::ModelConfig::load; weights (*.safetensors) and a tokenizer
// (tokenizer.json or tokenizer.model) present.
CheckpointCheck checkCheckpointFolder(const QString& dir);
// The file-system half of that check, without parsing config.json: what the worker asks before
// fm::Model::load, which parses config.json itself (once per load).
CheckpointCheck checkCheckpointFiles(const QString& dir);

// "models--tiiuae--falcon-mamba-7b/snapshots/<hash>" -> "tiiuae/falcon-mamba-7b"; else the
// folder's own name.
QString checkpointDisplayName(const QString& dir);

// HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub: the same order huggingface_hub itself uses.
QString huggingFaceHubCache(const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment());

struct FoundCheckpoint {
    QString path;
    QString displayName;
    QString modelType;
};

// models--*/snapshots/* under `hubCache` whose config.json has model_type falcon_mamba or mamba.
QList<FoundCheckpoint> findHubCheckpoints(const QString& hubCache);

}  // namespace fm::app
