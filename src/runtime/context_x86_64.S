/* Stack switch for x86-64 System V: see context.h. */
#if defined(__x86_64__)
    .text
    .globl gt__ctx_switch
    .hidden gt__ctx_switch
    .type gt__ctx_switch, @function
    .p2align 4
gt__ctx_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movl (%rsp), %eax
    movzwl 4(%rsp), %edx
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    /* Loaded only when they differ (almost never): ldmxcsr and fldcw
     * serialize the pipeline, so every switch waited there for the cold
     * lines of the new stack (the largest user-space cost per message
     * with 1,000 connections, issue 11). */
    cmpl (%rsp), %eax
    je 1f
    ldmxcsr (%rsp)
1:  cmpw 4(%rsp), %dx
    je 2f
    fldcw 4(%rsp)
2:  addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size gt__ctx_switch, .-gt__ctx_switch

/* First code a new context runs: r12 = arg, r13 = entry. */
    .globl gt__ctx_trampoline
    .hidden gt__ctx_trampoline
    .type gt__ctx_trampoline, @function
    .p2align 4
gt__ctx_trampoline:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size gt__ctx_trampoline, .-gt__ctx_trampoline
#endif
    .section .note.GNU-stack,"",@progbits
