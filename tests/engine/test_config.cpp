// config.json -> ModelConfig: the fields and defaults of docs/model.md, Shapes.

#include <QtTest>

#include "inference/checkpoint/config.h"

using namespace fm;

class TestConfig : public QObject {
    Q_OBJECT
private slots:
    void real_7b_config() {
        auto c = ModelConfig::load(std::string(FM_TEST_DATA_DIR) + "/falcon-mamba-7b-config");
        QVERIFY2(c.ok(), c.error().c_str());
        QCOMPARE(c->hidden_size, int64_t{4096});
        QCOMPARE(c->intermediate_size, int64_t{8192});
        QCOMPARE(c->state_size, int64_t{16});
        QCOMPARE(c->time_step_rank, int64_t{256});
        QCOMPARE(c->conv_kernel, int64_t{4});
        QCOMPARE(c->num_layers, int64_t{64});
        QCOMPARE(c->vocab_size, int64_t{65024});
        QCOMPARE(c->layer_norm_epsilon, 1e-5f);
        QCOMPARE(c->mixer_rms_eps, 1e-6f);  // absent from the file: the default
        QVERIFY(c->uses_bcdt_norms());
        QVERIFY(!c->tie_word_embeddings);
        QCOMPARE(c->eos_token_ids, std::vector<int64_t>{11});
    }

    void fields_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("expected");
        const QString base = R"({"model_type":"%1","hidden_size":8,"intermediate_size":16,"state_size":4,)"
                             R"("time_step_rank":2,"conv_kernel":4,"num_hidden_layers":1,"vocab_size":10%2})";
        QTest::newRow("falcon_mamba") << base.arg("falcon_mamba", "") << true << "norms";
        QTest::newRow("plain mamba skips the norms") << base.arg("mamba", "") << true << "no norms";
        QTest::newRow("mixer eps read") << base.arg("falcon_mamba", R"(,"mixer_rms_eps":0.001)") << true << "eps";
        QTest::newRow("unknown model") << base.arg("mamba2", "") << false << "unsupported model_type";
        QTest::newRow("zero size") << base.arg("falcon_mamba", "").replace("\"state_size\":4", "\"state_size\":0")
                                   << false << "must be positive";
        QTest::newRow("string size") << base.arg("falcon_mamba", "").replace("\"state_size\":4", "\"state_size\":\"4\"")
                                     << false << "must be an integer";
        QTest::newRow("not an object") << "[1,2]" << false << "expected a JSON object";
        QTest::newRow("unknown quant") << base.arg("falcon_mamba", R"(,"quantization_config":{"quant_method":"gptq"})")
                                       << false << "unsupported quantization";
        QTest::newRow("bnb 4-bit")
            << base.arg(
                   "falcon_mamba",
                   R"(,"quantization_config":{"quant_method":"bitsandbytes","load_in_4bit":true,"bnb_4bit_quant_type":"nf4"})")
            << true << "nf4";
    }
    void fields() {
        QFETCH(QString, json);
        QFETCH(bool, ok);
        QFETCH(QString, expected);
        auto c = ModelConfig::from_json_text(json.toStdString(), "config.json");
        QCOMPARE(c.ok(), ok);
        if (!ok) {
            QVERIFY2(QString::fromStdString(c.error()).contains(expected), c.error().c_str());
            return;
        }
        if (expected == "norms") QVERIFY(c->uses_bcdt_norms());
        if (expected == "no norms") QVERIFY(!c->uses_bcdt_norms());
        if (expected == "eps") QCOMPARE(c->mixer_rms_eps, 0.001f);
        if (expected == "nf4") QCOMPARE(QString::fromStdString(c->quantization.quant_type), QString("nf4"));
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "test_config.moc"
