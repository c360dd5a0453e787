// Peak multiply-add rate (see bench/README.md, "Probes"): SSE mulps+addps (no FMA, what a DOTNET_EnableAVX=0 build can issue) vs AVX-512 FMA,
// alternated in one process. Independent chains (more than latency x ports), operands in registers.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <immintrin.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define R8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define R16(X) R8(X) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
__attribute__((noinline)) float sse(long n){
  __m128 m=_mm_set1_ps(0.9999f), b=_mm_set1_ps(1e-6f);
#define D(i) __m128 a##i=_mm_set1_ps(1+i*1e-3f), c##i=_mm_setzero_ps();
  R16(D)
  for(long k=0;k<n;k++){
#define S(i) c##i=_mm_add_ps(c##i,_mm_mul_ps(a##i,m)); __asm__ volatile("" : "+x"(c##i));
    R16(S)
  }
  float o=0;
#define O(i) o+=_mm_cvtss_f32(c##i);
  R16(O) return o;
}
__attribute__((noinline)) float avx512(long n){
  __m512 m=_mm512_set1_ps(0.9999f);
#define E(i) __m512 a##i=_mm512_set1_ps(1+i*1e-3f), c##i=_mm512_setzero_ps();
  R16(E)
  for(long k=0;k<n;k++){
#define F(i) c##i=_mm512_fmadd_ps(a##i,m,c##i); __asm__ volatile("" : "+v"(c##i));
    R16(F)
  }
  float o=0;
#define P(i) o+=_mm512_reduce_add_ps(c##i);
  R16(P) return o;
}
int main(){
  long n=20000000; float sink=0;
  for(int rep=0;rep<6;rep++){
    double t=now(); sink+=sse(n); double ts=now()-t;
    t=now(); sink+=avx512(n); double tz=now()-t;
    double gs=n*16.0*4*2/ts/1e9, gz=n*16.0*16*2/tz/1e9;
    printf("sse mul+add %.1f GFLOP/s   avx512 fma %.1f GFLOP/s   ratio %.3f\n", gs, gz, gs/gz);
  }
  return sink==1234.5f;
}
