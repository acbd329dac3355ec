// A kernel whose array is written and read at indices known only at run time, so it
// lives in local memory. The ptxas gate of megakernel/CMakeLists.txt must reject it
// (ctest cuda_ptxas_gate_rejects_local_memory).
__global__ void localMemory(float *out, const float *in, const int *index) {
  float table[32];
#pragma unroll
  for (int i = 0; i < 32; ++i)
    table[i] = in[threadIdx.x * 32 + i] * float(i);
  for (int i = 0; i < 32; ++i)
    table[index[i] & 31] += table[index[i + 32] & 31];
  out[threadIdx.x] = table[index[threadIdx.x] & 31];
}
