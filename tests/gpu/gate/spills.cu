// A kernel that cannot fit its registers: 64 live accumulators per thread under a
// 32-register bound (1024 threads, 2 CTAs per SM). The ptxas gate of
// megakernel/CMakeLists.txt must reject it (ctest cuda_ptxas_gate_rejects_spills).
__global__ void __launch_bounds__(1024, 2) spills(float *out, const float *in) {
  float acc[64];
#pragma unroll
  for (int i = 0; i < 64; ++i)
    acc[i] = in[threadIdx.x + i * 1024];
#pragma unroll
  for (int j = 1; j < 8; ++j)
#pragma unroll
    for (int i = 0; i < 64; ++i)
      acc[i] = acc[i] * acc[(i + j) % 64] + 1.0f;
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < 64; ++i)
    sum += acc[i];
  out[threadIdx.x] = sum;
}
