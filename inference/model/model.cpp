#include "inference/model/model.h"

#include <chrono>

#include <system_error>
#include "inference/core/guarded.h"

namespace fm {
namespace {

bool has_tokenizer_files(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::is_regular_file(dir / "tokenizer.json", ec) ||
           std::filesystem::is_regular_file(dir / "tokenizer.model", ec);
}

}  // namespace

Result<ModelText> load_model_text(const std::filesystem::path& dir, TokenizerPolicy policy,
                                  const std::vector<int64_t>* config_eos_ids) {
    return guarded<Result<ModelText>>("loading the tokenizer of " + dir.string(), [&]() -> Result<ModelText> {
        ModelText text;
        if (!has_tokenizer_files(dir)) {
            if (policy == TokenizerPolicy::Required)
                return Error{dir.string() + ": no tokenizer.json or tokenizer.model in this folder"};
            return text;
        }
        auto tokenizer = Tokenizer::load_from_dir(dir);
        if (!tokenizer) return Error{tokenizer.error()};
        text.tokenizer = std::shared_ptr<const Tokenizer>(std::move(*tokenizer));
        auto format = config_eos_ids ? ChatFormat::load(dir, *text.tokenizer, *config_eos_ids)
                                     : ChatFormat::load(dir, *text.tokenizer);
        if (!format) return Error{format.error()};
        text.format = std::make_shared<const ChatFormat>(std::move(*format));
        return text;
    });
}

Result<std::unique_ptr<Model>> Model::load(const std::filesystem::path& checkpoint_dir, const ModelOptions& options) {
    return guarded<Result<std::unique_ptr<Model>>>(
        "loading " + checkpoint_dir.string(), [&]() -> Result<std::unique_ptr<Model>> {
            const auto start = std::chrono::steady_clock::now();
            std::unique_ptr<Model> model(new Model());
            model->dir_ = checkpoint_dir;

            // config.json is parsed here, once; every later step takes the parsed config.
            auto config = ModelConfig::load(checkpoint_dir);
            if (!config) return Error{config.error()};

            auto text = load_model_text(checkpoint_dir, options.tokenizer, &config->eos_token_ids);
            if (!text) return Error{text.error()};
            model->tokenizer_ = std::move(text->tokenizer);
            model->format_ = std::move(text->format);

            LoadOptions load_options;
            load_options.quantize_4bit = options.quantize_4bit;
            load_options.quantize_embeddings = options.quantize_embeddings;
            load_options.progress = options.progress;
            load_options.cancel = options.cancel;
            auto weights = load_weights(checkpoint_dir, *config, load_options);
            if (options.cancel && options.cancel->load()) return Error{"loading cancelled"};
            if (!weights) return Error{weights.error()};
            model->weights_ = std::move(*weights);

            auto choice = create_backend(model->weights_, options.backend);
            if (!choice) return Error{choice.error()};
            model->backend_ = std::move(choice->backend);
            if (options.backend.kind != BackendKind::Cpu) model->fallback_reason_ = choice->fallback_reason;
            model->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            return model;
        });
}

std::unique_ptr<GenerationSession> Model::new_session() {
    return new_session(format_);
}

std::unique_ptr<GenerationSession> Model::new_session(std::shared_ptr<const ChatFormat> format) {
    return std::make_unique<GenerationSession>(*backend_, tokenizer_, std::move(format));
}

}  // namespace fm
