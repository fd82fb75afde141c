// The protoc-gen-rpcx-es executable: a protoc / buf plugin reading a CodeGeneratorRequest on
// stdin and writing the response on stdout.
import { runNodeJs } from '@bufbuild/protoplugin';
import { protocGenRpcxEs } from './plugin.js';

runNodeJs(protocGenRpcxEs);
